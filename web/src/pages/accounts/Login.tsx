// Sign in (cookie mode: session.login). Afterwards go to ?next= when it is a
// path of this site. ?expired=1 says the session ended; an inactive account
// is explained with a way to get a new activation link; 429 says how long to wait.
import { useRef, useState } from 'preact/hooks';
import { ApiError } from '../../api/errors';
import { navigate, useLocation } from '../../router';
import { session } from '../../session';
import { ErrorMessage, Field, FormError, Notice, fieldError } from '../../ui/common';
import { useSession, useTitle } from '../../ui/hooks';
import { AccountPage, ResendActivation, focusFirstInvalid, rememberEmail, safeNext } from './shared';

export default function Login() {
  const { query } = useLocation();
  const next = safeNext(query.get('next'));
  const expired = query.get('expired') === '1';
  const s = useSession();
  const [email, setEmail] = useState(rememberEmail());
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const form = useRef<HTMLFormElement>(null);
  useTitle('Sign in');

  if (s.status === 'signed-in' && s.user && !busy) {
    return (
      <AccountPage title="Sign in">
        <p>
          You are signed in as <strong>{s.user.email}</strong>.
        </p>
        <p>
          <a class="btn btn-primary" href={next}>
            Continue
          </a>
        </p>
      </AccountPage>
    );
  }

  const submit = async (e: Event) => {
    e.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      rememberEmail(email);
      await session.login(email.trim(), password);
      navigate(next, { replace: true });
    } catch (err) {
      setError(err);
      setPassword('');
      focusFirstInvalid(form.current);
    } finally {
      setBusy(false);
    }
  };

  const code = error instanceof ApiError ? error.code : '';
  return (
    <AccountPage title="Sign in">
      {expired && !error && <Notice kind="warning">Your session ended; sign in again.</Notice>}
      <form class="form" ref={form} noValidate onSubmit={(e) => void submit(e)}>
        {code === 'account_inactive' ? (
          <div class="alert alert-error" role="alert">
            <p>
              This account is not active yet. Open the link in the activation email we sent to {email.trim()}; if it
              expired or never arrived, get a new one.
            </p>
            <ResendActivation email={email.trim()} />
          </div>
        ) : code === 'rate_limited' && error instanceof ApiError ? (
          <div class="alert alert-error" role="alert">
            <p>
              Too many sign-in attempts.{' '}
              {error.retryAfter ? `Wait ${error.retryAfter} seconds, then try again.` : 'Wait a minute, then try again.'}
            </p>
          </div>
        ) : code === 'invalid_credentials' ? (
          <ErrorMessage error={error} />
        ) : (
          <FormError error={error} shown={['email', 'password']} />
        )}
        <Field
          label="Email"
          type="email"
          name="email"
          autoComplete="username"
          required
          value={email}
          error={fieldError(error, 'email')}
          onInput={(e) => setEmail(e.currentTarget.value)}
        />
        <Field
          label="Password"
          type="password"
          name="password"
          autoComplete="current-password"
          required
          value={password}
          error={fieldError(error, 'password')}
          onInput={(e) => setPassword(e.currentTarget.value)}
        />
        <div class="row">
          <button type="submit" class="btn btn-primary" disabled={busy}>
            {busy ? 'Signing in…' : 'Sign in'}
          </button>
          <a href="/accounts/password/forgot">Forgot your password?</a>
        </div>
        <p class="muted">
          New here? <a href="/accounts/register">Create an account</a>. Activation link expired?{' '}
          <a href="/accounts/activation/resend">Get a new one</a>.
        </p>
      </form>
    </AccountPage>
  );
}
