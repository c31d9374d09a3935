/* global rs, db, sleep, print */
// mongosh script of the Job mongodb-init, run twice (see mongodb.yaml):
//   phase "initiate": connected straight to the first member as root, initiates replica set rs0 with
//                     the members in MONGODB_MEMBERS, unless it is initiated already;
//   phase "users":    connected to the replica set as root, waits for a primary, then creates (or
//                     updates) the apps' user MONGODB_USERNAME with readWrite on MONGODB_DB only.
// Idempotent: the Job may run again after every `kubectl apply`.
const phase = process.env.INIT_PHASE;

if (phase === 'initiate') {
  const members = process.env.MONGODB_MEMBERS.split(',').map((host, index) => ({
    _id: index,
    host: host.trim(),
    // The first member is preferred as primary, so the second phase usually finds it there.
    priority: index === 0 ? 2 : 1,
  }));
  let initiated = true;
  try {
    rs.status();
  } catch (error) {
    if (error.codeName !== 'NotYetInitialized') throw error;
    initiated = false;
  }
  if (initiated) {
    print('replica set rs0 is initiated already');
  } else {
    rs.initiate({ _id: 'rs0', members });
    print(`initiated replica set rs0 with ${members.map((member) => member.host).join(', ')}`);
  }
} else if (phase === 'users') {
  for (let waited = 0; !db.hello().isWritablePrimary; waited += 1) {
    if (waited >= 120) throw new Error('no primary within 120 s');
    sleep(1000);
  }
  const admin = db.getSiblingDB('admin');
  const user = process.env.MONGODB_USERNAME;
  const roles = [{ role: 'readWrite', db: process.env.MONGODB_DB }];
  if (admin.getUser(user) === null) {
    admin.createUser({ user, pwd: process.env.MONGODB_PASSWORD, roles });
    print(`created user ${user}`);
  } else {
    admin.updateUser(user, { pwd: process.env.MONGODB_PASSWORD, roles });
    print(`updated user ${user}`);
  }
} else {
  throw new Error(`INIT_PHASE must be "initiate" or "users", got ${phase}`);
}
