import type { Route } from '../../routes';
import Catalog from './Catalog';

export const visitorRoutes: Route[] = [
  { pattern: '/', page: Catalog },
  { pattern: '/movies', page: Catalog },
  { pattern: '/movies/:id', load: () => import('./Movie') },
  { pattern: '/genres', load: () => import('./Genres') },
];
