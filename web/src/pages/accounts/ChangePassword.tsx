// Change password (signed in): the current one and a new one. The server
// ends every other session of the account and keeps this one, so the page
// stays signed in and says that the other devices were signed out.
import { useRef, useState } from 'preact/hooks';
import { api, call } from '../../api/client';
import { ApiError } from '../../api/errors';
import { Field, FormError, Notice, fieldError } from '../../ui/common';
import { useTitle } from '../../ui/hooks';
import { AccountPage, NewPasswordFields, focusFirstInvalid } from './shared';

export default function ChangePassword() {
  const [oldPassword, setOld] = useState('');
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [confirmError, setConfirmError] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState(false);
  const form = useRef<HTMLFormElement>(null);
  useTitle('Change password');

  const submit = async (e: Event) => {
    e.preventDefault();
    if (busy) return;
    setError(null);
    setDone(false);
    if (password !== confirm) {
      setConfirmError('The two passwords differ.');
      focusFirstInvalid(form.current);
      return;
    }
    setConfirmError('');
    setBusy(true);
    try {
      await call(api.POST('/api/v1/accounts/password/change', { body: { old_password: oldPassword, new_password: password } }));
      setOld('');
      setPassword('');
      setConfirm('');
      setDone(true);
    } catch (err) {
      setError(err);
      focusFirstInvalid(form.current);
    } finally {
      setBusy(false);
    }
  };

  const wrong = error instanceof ApiError && error.code === 'wrong_password';
  return (
    <AccountPage title="Change password">
      {done && (
        <Notice kind="success">
          <p>Password changed. You stay signed in here; every other device or browser signed in to this account was signed out. We emailed you a confirmation.</p>
        </Notice>
      )}
      <form class="form" ref={form} noValidate onSubmit={(e) => void submit(e)}>
        <FormError error={wrong ? null : error} shown={['old_password', 'new_password']} />
        <Field
          label="Current password"
          type="password"
          name="old_password"
          autoComplete="current-password"
          required
          value={oldPassword}
          error={wrong && error instanceof ApiError ? error.message : fieldError(error, 'old_password')}
          onInput={(e) => setOld(e.currentTarget.value)}
        />
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
            {busy ? 'Saving…' : 'Change password'}
          </button>
        </div>
        <p class="muted">
          Forgot the current one? <a href="/accounts/password/forgot">Reset it by email</a>.
        </p>
      </form>
    </AccountPage>
  );
}
