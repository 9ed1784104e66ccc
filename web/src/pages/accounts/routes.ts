import type { Route } from '../../routes';

export const accountRoutes: Route[] = [
  { pattern: '/accounts/register', load: () => import('./Register') },
  { pattern: '/accounts/activate', load: () => import('./Activate') },
  { pattern: '/accounts/activation/resend', load: () => import('./ResendActivation') },
  { pattern: '/accounts/login', load: () => import('./Login') },
  { pattern: '/accounts/password/forgot', load: () => import('./ForgotPassword') },
  { pattern: '/accounts/password/reset', load: () => import('./ResetPassword') },
  { pattern: '/accounts/password/change', access: 'signed-in', load: () => import('./ChangePassword') },
  { pattern: '/accounts/profile', access: 'signed-in', load: () => import('./Profile') },
];
