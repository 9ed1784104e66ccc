// Ask for a new activation link. The server answers the same whatever the
// address, so the page repeats its sentence.
import { api, call } from '../../api/client';
import { useTitle } from '../../ui/hooks';
import { AccountPage, EmailForm } from './shared';

export default function ResendActivationPage() {
  useTitle('Send a new activation link');
  return (
    <AccountPage title="Send a new activation link">
      <p>Activation links are valid for 24 hours. Enter the address you registered with and we will send a new one.</p>
      <EmailForm
        button="Send the link"
        send={async (email) => (await call(api.POST('/api/v1/accounts/activation/resend', { body: { email } }))).detail}
      />
      <p class="muted">
        <a href="/accounts/login">Sign in</a> · <a href="/accounts/register">Create an account</a>
      </p>
    </AccountPage>
  );
}
