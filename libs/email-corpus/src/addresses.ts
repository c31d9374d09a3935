/**
 * Helpers for the address text of a parsed {@link Email} (`"Name" <local@domain>, other@domain`, as
 * mailparser renders From, To and Reply-To).
 */

const NAME_AND_ADDRESS = /^\s*(?:"((?:[^"\\]|\\.)*)"|([^<,"]*?))\s*<([^>]*)>/;
const BARE_ADDRESS = /^\s*([^\s<>,;"]+@[^\s<>,;"]+)/;

/**
 * The first mailbox of an address list, as `"Name" <address>` or `address`; `''` when none is found.
 */
export function firstMailbox(addressText: string): string {
  const named = NAME_AND_ADDRESS.exec(addressText);
  if (named !== null) {
    const name = (named[1] ?? named[2] ?? '').trim();
    return name === '' ? named[3].trim() : `"${name}" <${named[3].trim()}>`;
  }
  return BARE_ADDRESS.exec(addressText)?.[1] ?? '';
}

/**
 * How to address the sender: the display name of the first mailbox (`Robert Elz`), else the local part
 * of its address (`kre`), else `''`.
 */
export function senderName(addressText: string): string {
  const named = NAME_AND_ADDRESS.exec(addressText);
  const name = (named?.[1] ?? named?.[2] ?? '').replace(/\\(.)/g, '$1').trim();
  if (name !== '' && !name.includes('@')) return name;
  const address = named?.[3] ?? BARE_ADDRESS.exec(addressText)?.[1] ?? (name.includes('@') ? name : '');
  const at = address.indexOf('@');
  return at > 0 ? address.slice(0, at).trim() : '';
}
