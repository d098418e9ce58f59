// Drives node-zendesk against a live tokenry the way a Zendesk script would, and prints what it
// saw as one JSON object on stdout for tests/test_zendesk_clients.py to check.
//
// Environment:
//   NODE_ZENDESK   which installed package: "node-zendesk" (newest major) or "node-zendesk-2"
//   TOKENRY_URL    the server's origin, e.g. http://127.0.0.1:8123
//   ZENDESK_EMAIL, ZENDESK_TOKEN   the email/token credential
//   AUDIT_SINCE, AUDIT_UNTIL       ISO times: the created_at range to filter the audit log by
//   STEPS          comma-separated subset of: me,settings,users,audit,cursor,refused
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const packageName = process.env.NODE_ZENDESK || 'node-zendesk';
const origin = process.env.TOKENRY_URL;
const email = process.env.ZENDESK_EMAIL;
const token = process.env.ZENDESK_TOKEN;
const steps = new Set((process.env.STEPS || 'me,settings,users,audit,refused').split(','));
const zendesk = require(packageName);
// 6.x exports no package.json: read it from where the package is installed
const version = JSON.parse(fs.readFileSync(
  path.join(__dirname, 'node_modules', packageName, 'package.json'), 'utf8')).version;
const major = Number(version.split('.')[0]);

// The two majors differ in how they are configured and in what their promises resolve to;
// each adapter answers the same five questions.
function newestMajor(secret) {
  const client = zendesk.createClient({username: email, token: secret,
                                       endpointUri: `${origin}/api/v2`});
  return {
    me: async () => (await client.users.me()).result,
    showSettings: async () => (await client.accountsettings.show()).result,
    updateSettings: async (body) => (await client.accountsettings.update(body)).result,
    listUsers: () => client.users.list(),
    // requestAll with a resource node-zendesk has no client for: each page's body comes back
    requestAll: (path, query) => client.users.requestAll('GET', [path, query]),
  };
}

function majorTwo(secret) {
  const client = zendesk.createClient({username: email, token: secret,
                                       remoteUri: `${origin}/api/v2`,
                                       disableGlobalState: true});
  // 2.x pops a trailing callback argument; an explicit undefined asks for a promise.
  return {
    me: () => client.users.me(undefined),
    showSettings: () => client.accountsettings.show(undefined),
    updateSettings: async (body) => (await client.accountsettings.request(
      'PUT', ['account', 'settings'], body, undefined)),
    listUsers: () => client.users.list(undefined),
    requestAll: (path, query) => client.users.requestAll('GET', [path, query], undefined),
  };
}

const connect = major >= 5 ? newestMajor : majorTwo;

// 2.x keeps the status on the error; 6.x folds it into the message it throws instead
function statusOf(error) {
  const folded = /Zendesk Error \((\d+)\)/.exec(error.message || '');
  return error.statusCode ?? (folded ? Number(folded[1]) : null);
}

async function main() {
  const api = connect(token);
  const out = {client: {package: packageName, version}};
  if (steps.has('me')) {
    const me = await api.me();
    out.me = {id: me.id, email: me.email, role: me.role};
  }
  if (steps.has('settings')) {
    out.settings = await api.showSettings();
    // tokenry's settings answer is Zendesk's {"settings": {...}}: 2.x unwraps it by name too
    out.settingsUpdated = await api.updateSettings(
      {settings: {api: {accepted_api_agreement: true}}});
  }
  if (steps.has('users')) {
    out.userIds = (await api.listUsers()).map((user) => user.id);
  }
  if (steps.has('audit')) {
    const pages = async (query) => (await api.requestAll('audit_logs', query));
    const events = (bodies) => bodies.flatMap((body) => body.audit_logs);
    out.auditIds = events(await pages({})).map((event) => event.id);
    // Zendesk documents the bracketed names; both majors send an object's keys as given
    const created = events(await pages({'filter[action]': 'create',
                                        'filter[source_type]': 'user'}));
    out.auditCreatedUsers = created.map((event) => ({
      id: event.id, action: event.action, source_type: event.source_type,
      source_id: event.source_id}));
    // A time range is the same filter given twice: a query string keeps both
    const range = new URLSearchParams([['filter[created_at][]', process.env.AUDIT_SINCE],
                                       ['filter[created_at][]', process.env.AUDIT_UNTIL]]);
    out.auditInRange = events(await pages(`?${range}`)).map((event) => event.id);
  }
  if (steps.has('cursor')) {
    const bodies = await api.requestAll('audit_logs', major >= 5 ? {page: {size: 25}}
                                                                  : {'page[size]': 25});
    out.cursorPages = bodies.map((body) => ({
      ids: body.audit_logs.map((event) => event.id),
      meta: body.meta ?? null, links: body.links ?? null, hasCount: 'count' in body}));
  }
  if (steps.has('refused')) {
    try {
      await connect(`${token}x`).me();
      out.refusedStatus = 200;
    } catch (error) {
      out.refusedStatus = statusOf(error);
    }
  }
  return out;
}

main().then((out) => {
  process.stdout.write(`${JSON.stringify(out)}\n`);
  process.exit(0); // 2.x keeps its sockets alive
}, (error) => {
  process.stderr.write(`${packageName} ${version} failed: ${error.stack || error}\n`);
  process.stderr.write(`status ${statusOf(error)}: ${error.result ?? ''}\n`);
  process.exit(1);
});
