import type { Route } from '../../routes';

export const userRoutes: Route[] = [];
