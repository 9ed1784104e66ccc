// The reset link's landing page (/accounts/password/reset?token=...): a new
// password with its rules. The reset ends every session of the account, so a
// session open in this browser is closed here too (and in its other tabs).
import { useRef, useState } from 'preact/hooks';
import { api, call } from '../../api/client';
import { ApiError } from '../../api/errors';
import { useLocation } from '../../router';
import { session } from '../../session';
import { FormError, Notice, fieldError } from '../../ui/common';
import { useTitle } from '../../ui/hooks';
import { AccountPage, NewPasswordFields, focusFirstInvalid } from './shared';

export default function ResetPassword() {
  const { query } = useLocation();
  const token = query.get('token') ?? '';
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [confirmError, setConfirmError] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState(false);
  const form = useRef<HTMLFormElement>(null);
  useTitle(done ? 'Password changed' : 'Choose a new password');

  if (done) {
    return (
      <AccountPage title="Password changed">
        <Notice kind="success">
          <p>Password changed, sign in with the new one. Every session of the account was signed out.</p>
        </Notice>
        <p>
          <a class="btn btn-primary" href="/accounts/login">
            Sign in
          </a>
        </p>
      </AccountPage>
    );
  }

  const code = error instanceof ApiError ? error.code : '';
  const tokenBad = !token || code === 'token_invalid' || code === 'token_expired' || fieldError(error, 'token') !== undefined;
  if (tokenBad) {
    return (
      <AccountPage title="This link does not work">
        <p class="alert alert-error" role="alert">
          {!token
            ? 'This address needs the token from the password reset email. Open the link in the email as it is.'
            : code === 'token_expired'
              ? 'This reset link has expired (links are valid for 1 hour). Ask for a new one.'
              : 'This reset link is not valid: it was already used, or a newer link replaced it. Ask for a new one.'}
        </p>
        <p>
          <a class="btn btn-primary" href="/accounts/password/forgot">
            Send a new reset link
          </a>
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
      await call(api.POST('/api/v1/accounts/password/reset', { body: { token, new_password: password } }));
      // Every session has ended on the server: forget ours and tell the other tabs.
      if (session.current.status === 'signed-in') await session.logout();
      setDone(true);
    } catch (err) {
      setError(err);
      focusFirstInvalid(form.current);
    } finally {
      setBusy(false);
    }
  };

  return (
    <AccountPage title="Choose a new password">
      <form class="form" ref={form} noValidate onSubmit={(e) => void submit(e)}>
        <FormError error={error} shown={['new_password', 'token']} />
        <NewPasswordFields
          label="New password"
          confirmLabel="Confirm new password"
          name="new_password"
          password={password}
          setPassword={setPassword}
          error={fieldError(error, 'new_password')}
          confirm={confirm}
          setConfirm={setConfirm}
          confirmError={confirmError}
          setConfirmError={setConfirmError}
        />
        <div class="row">
          <button type="submit" class="btn btn-primary" disabled={busy}>
            {busy ? 'Saving…' : 'Set the new password'}
          </button>
        </div>
      </form>
    </AccountPage>
  );
}
