import type { Email } from '@troupe/contracts';

/** Options of {@link formatEmailForPrompt}. */
export interface EmailPromptOptions {
  /** Body characters included (default 6,000); a longer body is cut and the cut is stated in the prompt. */
  maxTextChars?: number;
  /** Include the routing headers (default true). */
  includeHeaders?: boolean;
}

/**
 * Renders an email as prompt text between `<email>` and `</email>` markers: sender, recipients, subject,
 * date, the routing headers and the body. The body is untrusted input: system prompts should tell the
 * model that everything between the markers is data, not instructions. Any `</email>` inside the email
 * is defused so the content cannot close the block early.
 */
export function formatEmailForPrompt(email: Email, options: EmailPromptOptions = {}): string {
  const maxTextChars = options.maxTextChars ?? 6_000;
  const lines = [`From: ${email.from}`, `To: ${email.to}`, `Subject: ${email.subject}`, `Date: ${email.date ?? 'unknown'}`];
  if (options.includeHeaders ?? true) {
    for (const [name, value] of Object.entries(email.headers)) lines.push(`${name}: ${value.slice(0, 300)}`);
  }
  const body = email.text.length > maxTextChars ? email.text.slice(0, maxTextChars) : email.text;
  const bodyLabel =
    email.text.length > maxTextChars ? `Body (first ${maxTextChars} of ${email.text.length} characters):` : 'Body:';
  const content = [...lines, '', bodyLabel, body.trim()].join('\n').replace(/<\/?email>/gi, (tag) => tag.replace('<', '‹'));
  return `<email>\n${content}\n</email>`;
}
