import type { Route } from '../../routes';

// Administrators' pages, loaded when opened.
export const adminRoutes: Route[] = [
  { pattern: '/admin', access: 'admin', load: () => import('./Home') },
  { pattern: '/admin/users', access: 'admin', load: () => import('./Users') },
];
