import { render } from 'preact';
import { App } from './app';
import { location, navigate, startRouter } from './router';
import { session } from './session';
import './styles/app.css';

startRouter();
session.onExpired = () => {
  const here = location().href;
  if (!here.startsWith('/accounts/login')) navigate(`/accounts/login?next=${encodeURIComponent(here)}&expired=1`);
};
void session.boot();
const root = document.getElementById('app');
if (root) render(<App />, root);
