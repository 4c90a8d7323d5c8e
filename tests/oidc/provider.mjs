// A real OpenID provider for the sign-in tests: the certified `oidc-provider` package, on
// loopback, with one confidential client and a few staff accounts. Started by
// crates/server/tests/oidc.rs; nothing here is used by Chorus itself.
//
// Environment:
//   OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_REDIRECT_URI  the client Chorus is registered as
//   OIDC_HOST  the host name in the issuer (default 127.0.0.1; `localhost` puts the provider on
//              another site than a Chorus on 127.0.0.1, as a real provider is)
//   OIDC_USERS  JSON {"login": {"email": "...", "email_verified": true, "groups": ["..."]}}
//
// Prints `issuer http://127.0.0.1:PORT` on stdout once listening.
//
// The sign-in page is the package's own development form (any password is accepted for a
// listed login). Consent is granted at once, as a trust's provider does for its own apps.
//
// Test hooks, for the cases a well-behaved provider never produces. `POST /__test/next?mode=M`
// changes the ID token of the NEXT token response only; the token is re-signed with this
// provider's own key (so only the named fault is present):
//   wrong-aud  the audience is another client
//   expired    expired ten minutes ago
//   tampered   a claim is changed after signing (the signature no longer matches)
//   rotate     signed with a new key, whose id the client has not seen; the new key is then
//              published in the JWKS from that moment on (a provider rotating its keys)
// `POST /__test/groups?login=L&groups=a,b` changes a user's groups (as a directory admin would).

import { createServer } from 'node:http';
import { createHash, generateKeyPairSync, randomUUID, sign } from 'node:crypto';

import Provider from 'oidc-provider';

const clientId = process.env.OIDC_CLIENT_ID ?? 'chorus';
const clientSecret = process.env.OIDC_CLIENT_SECRET ?? 'a-test-secret-of-enough-length-0123456789';
const redirectUri = process.env.OIDC_REDIRECT_URI ?? 'http://127.0.0.1:1/dashboard/oidc/callback';
const users = JSON.parse(process.env.OIDC_USERS ?? '{}');

function rsaKey() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  const kid = createHash('sha256').update(jwk.n).digest('base64url').slice(0, 16);
  const { d, p, q, dp, dq, qi, ...pub } = jwk;
  return { privateKey, jwk: { ...jwk, kid, alg: 'RS256', use: 'sig' }, pub: { ...pub, kid, alg: 'RS256', use: 'sig' } };
}

const first = rsaKey();
const second = rsaKey();
let rotated = false;
let nextMode = null;

const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
const unb64 = (s) => JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));

function resign(claims, key) {
  const header = { alg: 'RS256', typ: 'JWT', kid: key.pub.kid };
  const data = `${b64(header)}.${b64(claims)}`;
  const sig = sign('sha256', Buffer.from(data), key.privateKey).toString('base64url');
  return `${data}.${sig}`;
}

function alter(idToken, mode) {
  const [h, p, s] = idToken.split('.');
  const claims = unb64(p);
  const now = Math.floor(Date.now() / 1000);
  switch (mode) {
    case 'wrong-aud':
      return resign({ ...claims, aud: 'someone-else', azp: 'someone-else' }, first);
    case 'expired':
      return resign({ ...claims, iat: now - 1200, auth_time: now - 1200, exp: now - 600 }, first);
    case 'tampered':
      return `${h}.${b64({ ...claims, email: 'mallory@trust.nhs.uk', groups: ['chorus-admins'] })}.${s}`;
    case 'rotate':
      rotated = true;
      return resign(claims, second);
    default:
      throw new Error(`unknown test mode ${mode}`);
  }
}

let handler = (req, res) => { res.statusCode = 503; res.end(); };
const server = createServer((req, res) => handler(req, res));
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://${process.env.OIDC_HOST ?? '127.0.0.1'}:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  jwks: { keys: [first.jwk] },
  claims: { openid: ['sub', 'groups'], email: ['email', 'email_verified'], profile: ['name'] },
  // Claims in the ID token itself (as Entra ID puts them), not only at the userinfo endpoint.
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  cookies: { keys: [randomUUID()] },
  features: { devInteractions: { enabled: true } },
  async findAccount(ctx, id) {
    const u = users[id];
    if (!u) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, email: u.email, email_verified: u.email_verified ?? true, groups: u.groups ?? [], name: u.name ?? id };
      },
    };
  },
  async loadExistingGrant(ctx) {
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid email profile');
    await grant.save();
    return grant;
  },
  renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = `<!doctype html><title>error</title><p id="error">${String(out.error).replace(/[<&]/g, '')}: ${String(out.error_description ?? '').replace(/[<&]/g, '')}</p>`;
  },
});
provider.proxy = false;

provider.use(async (ctx, next) => {
  if (ctx.path === '/__test/next' && ctx.method === 'POST') {
    nextMode = ctx.query.mode;
    ctx.body = `next token: ${nextMode}`;
    return;
  }
  if (ctx.path === '/__test/groups' && ctx.method === 'POST') {
    const u = users[ctx.query.login];
    if (!u) ctx.throw(404, 'no such login');
    u.groups = String(ctx.query.groups ?? '').split(',').filter(Boolean);
    ctx.body = `groups of ${ctx.query.login}: ${u.groups.join(',')}`;
    return;
  }
  await next();
  if (ctx.path === '/jwks' && rotated && ctx.body && Array.isArray(ctx.body.keys)) {
    ctx.body = { keys: [...ctx.body.keys, second.pub] };
  }
  if (ctx.path === '/token' && ctx.status === 200 && nextMode) {
    const body = typeof ctx.body === 'string' ? JSON.parse(ctx.body) : { ...ctx.body };
    if (body.id_token) {
      body.id_token = alter(body.id_token, nextMode);
      nextMode = null;
      ctx.body = body;
    }
  }
});

process.stdout.on('error', () => {});
handler = provider.callback();
process.stdout.write(`issuer ${issuer}\n`);
// Ends when the test closes our standard input (or exits).
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
