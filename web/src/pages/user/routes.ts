import type { Route } from '../../routes';

export const userRoutes: Route[] = [
  // accounts helper
  { pattern: '/notifications', access: 'signed-in', load: () => import('./Notifications') },
  { pattern: '/favorites', access: 'signed-in', load: () => import('./Favorites') },
  // end accounts helper
  // commerce helper: cart, orders (with the Stripe return), payments, "My movies"
  { pattern: '/cart', access: 'signed-in', load: () => import('./Cart') },
  { pattern: '/orders', access: 'signed-in', load: () => import('./Orders') },
  { pattern: '/orders/:id', access: 'signed-in', load: () => import('./Order') },
  { pattern: '/payments', access: 'signed-in', load: () => import('./Payments') },
  { pattern: '/purchases', access: 'signed-in', load: () => import('./Purchases') },
  // issue 14: the player (GET /play answers who may watch: owners and moderators)
  { pattern: '/movies/:id/watch', access: 'signed-in', load: () => import('./Watch') },
];
