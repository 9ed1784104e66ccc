// The activation link's landing page (/accounts/activate?token=...): uses
// the token at once. The API answers the user but no tokens, so the page
// says so and offers to sign in; a used or expired link offers a new one.
import { api, call, type Schemas } from '../../api/client';
import { ApiError } from '../../api/errors';
import { useLocation } from '../../router';
import { ErrorMessage, Loading, Notice } from '../../ui/common';
import { useAsync, useSession, useTitle } from '../../ui/hooks';
import { AccountPage, rememberEmail } from './shared';

type User = Schemas['User'];
/** Tokens used in this tab: going back to the page shows its success again instead of "already used". */
const activated = new Map<string, User>();

async function activate(token: string): Promise<User> {
  const known = activated.get(token);
  if (known) return known;
  const user = await call(api.POST('/api/v1/accounts/activate', { body: { token } }));
  activated.set(token, user);
  return user;
}

export default function Activate() {
  const { query } = useLocation();
  const token = query.get('token') ?? '';
  const s = useSession();
  const result = useAsync(
    () => (token ? activate(token) : Promise.resolve(null)),
    [token],
  );
  const ok = result.data ?? null;
  useTitle(ok ? 'Account activated' : 'Activate your account');

  if (!token) {
    return (
      <AccountPage title="Activate your account">
        <p>This address needs the token from the activation email. Open the link in the email as it is, or ask for a new one.</p>
        <p>
          <a class="btn btn-primary" href="/accounts/activation/resend">
            Send a new activation link
          </a>
        </p>
      </AccountPage>
    );
  }
  if (result.loading && !result.data && !result.error) {
    return (
      <AccountPage title="Activate your account">
        <Loading label="Activating your account…" />
      </AccountPage>
    );
  }
  if (ok) {
    rememberEmail(ok.email);
    const signedInAs = s.status === 'signed-in' && s.user?.email === ok.email;
    return (
      <AccountPage title="Account activated">
        <Notice kind="success">
          <p>Account activated — sign in with {ok.email} and the password you chose.</p>
        </Notice>
        <p>
          {signedInAs ? (
            <a class="btn btn-primary" href="/movies">
              Browse the catalog
            </a>
          ) : (
            <a class="btn btn-primary" href="/accounts/login">
              Sign in
            </a>
          )}
        </p>
      </AccountPage>
    );
  }
  const e = result.error;
  const code = e instanceof ApiError ? e.code : '';
  const tokenProblem = code === 'token_invalid' || code === 'token_expired' || code === 'validation_failed';
  return (
    <AccountPage title="This link does not work">
      {code === 'token_expired' ? (
        <p role="alert" class="alert alert-error">
          This activation link has expired (links are valid for 24 hours). Ask for a new one below.
        </p>
      ) : tokenProblem ? (
        <p role="alert" class="alert alert-error">
          This activation link is not valid: it was already used, or a newer link replaced it. If your account is
          already active, just sign in; otherwise ask for a new link.
        </p>
      ) : (
        <ErrorMessage error={e} retry={result.reload} />
      )}
      <p class="row">
        <a class="btn btn-primary" href="/accounts/activation/resend">
          Send a new activation link
        </a>
        <a class="btn" href="/accounts/login">
          Sign in
        </a>
      </p>
    </AccountPage>
  );
}
