import type { Route } from '../../routes';

export const adminRoutes: Route[] = [];
