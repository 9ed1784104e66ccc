import type { Route } from '../../routes';

export const accountRoutes: Route[] = [];
