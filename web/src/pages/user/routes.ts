import type { Route } from '../../routes';

export const userRoutes: Route[] = [
  // accounts helper
  { pattern: '/notifications', access: 'signed-in', load: () => import('./Notifications') },
  { pattern: '/favorites', access: 'signed-in', load: () => import('./Favorites') },
  // end accounts helper
];
