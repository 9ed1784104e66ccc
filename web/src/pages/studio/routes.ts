import type { Route } from '../../routes';

// The moderators' studio; every page is its own chunk, loaded when opened.
export const studioRoutes: Route[] = [
  { pattern: '/studio', access: 'moderator', load: () => import('./Home') },
  { pattern: '/studio/movies', access: 'moderator', load: () => import('./Movies') },
  { pattern: '/studio/movies/new', access: 'moderator', load: () => import('./MovieEdit') },
  { pattern: '/studio/movies/:id', access: 'moderator', load: () => import('./MovieEdit') },
  { pattern: '/studio/genres', access: 'moderator', load: () => import('./Lookups').then((m) => ({ default: m.Genres })) },
  { pattern: '/studio/stars', access: 'moderator', load: () => import('./Lookups').then((m) => ({ default: m.Stars })) },
  { pattern: '/studio/directors', access: 'moderator', load: () => import('./Lookups').then((m) => ({ default: m.Directors })) },
  {
    pattern: '/studio/certifications',
    access: 'moderator',
    load: () => import('./Lookups').then((m) => ({ default: m.Certifications })),
  },
  { pattern: '/studio/sales', access: 'moderator', load: () => import('./Sales') },
];
