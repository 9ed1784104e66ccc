import type { Route } from '../../routes';

export const studioRoutes: Route[] = [];
