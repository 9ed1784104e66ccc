// Forgot password: an email; the server answers the same whatever the address.
import { api, call } from '../../api/client';
import { useTitle } from '../../ui/hooks';
import { AccountPage, EmailForm } from './shared';

export default function ForgotPassword() {
  useTitle('Forgot your password?');
  return (
    <AccountPage title="Forgot your password?">
      <p>Enter the address of your account. If it is registered and active, we send a link to choose a new password (valid for 1 hour).</p>
      <EmailForm
        button="Send the reset link"
        send={async (email) => (await call(api.POST('/api/v1/accounts/password/forgot', { body: { email } }))).detail}
      />
      <p class="muted">
        Remembered it? <a href="/accounts/login">Sign in</a>.
      </p>
    </AccountPage>
  );
}
