// Register: email, password (rules ticked as you type) and its confirmation.
// The server's 422 messages go on their fields; 409 email_taken on the email.
import { useRef, useState } from 'preact/hooks';
import { api, call } from '../../api/client';
import { ApiError } from '../../api/errors';
import { Field, FormError, fieldError } from '../../ui/common';
import { useTitle } from '../../ui/hooks';
import { AccountPage, NewPasswordFields, ResendActivation, focusFirstInvalid, rememberEmail } from './shared';

export default function Register() {
  const [email, setEmail] = useState(rememberEmail());
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [confirmError, setConfirmError] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<string | null>(null);
  const form = useRef<HTMLFormElement>(null);
  useTitle(done ? 'Check your email' : 'Create an account');

  if (done) {
    return (
      <AccountPage title="Check your email">
        <p>
          We sent a link to <strong>{done}</strong>. Open it within 24 hours to activate your account, then sign in.
        </p>
        <p class="muted">Nothing arrived? Look in the spam folder, or send the link again.</p>
        <ResendActivation email={done} />
        <p>
          <a href="/accounts/activation/resend">Use another address</a> · <a href="/accounts/login">Sign in</a>
        </p>
      </AccountPage>
    );
  }

  const submit = async (e: Event) => {
    e.preventDefault();
    if (busy) return;
    setError(null);
    if (password !== confirm) {
      setConfirmError('The two passwords differ.');
      focusFirstInvalid(form.current);
      return;
    }
    setConfirmError('');
    setBusy(true);
    try {
      const user = await call(api.POST('/api/v1/accounts/register', { body: { email: email.trim(), password } }));
      rememberEmail(user.email);
      setDone(user.email);
    } catch (err) {
      setError(err);
      focusFirstInvalid(form.current);
    } finally {
      setBusy(false);
    }
  };

  const emailError =
    fieldError(error, 'email') ??
    (error instanceof ApiError && error.code === 'email_taken' ? `${error.message} Sign in, or reset the password.` : undefined);
  const passwordError = fieldError(error, 'password');
  return (
    <AccountPage title="Create an account">
      <form class="form" ref={form} noValidate onSubmit={(e) => void submit(e)}>
        <FormError error={error instanceof ApiError && error.code === 'email_taken' ? null : error} shown={['email', 'password']} />
        <Field
          label="Email"
          type="email"
          name="email"
          autoComplete="email"
          required
          value={email}
          error={emailError}
          onInput={(e) => setEmail(e.currentTarget.value)}
        />
        <NewPasswordFields
          label="Password"
          confirmLabel="Confirm password"
          name="password"
          password={password}
          setPassword={setPassword}
          error={passwordError}
          confirm={confirm}
          setConfirm={setConfirm}
          confirmError={confirmError}
          setConfirmError={setConfirmError}
        />
        <div class="row">
          <button type="submit" class="btn btn-primary" disabled={busy}>
            {busy ? 'Creating…' : 'Create account'}
          </button>
        </div>
        <p class="muted">
          Already registered? <a href="/accounts/login">Sign in</a>. No activation email?{' '}
          <a href="/accounts/activation/resend">Send it again</a>.
        </p>
      </form>
    </AccountPage>
  );
}
