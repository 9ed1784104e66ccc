// The app's pages. Each area lists its own routes (pages/<area>/routes.ts);
// pages outside the first paint are loaded on demand (a separate chunk each).
import type { ComponentType } from 'preact';

export interface PageProps {
  params: Record<string, string>;
}

export type Access = 'anyone' | 'signed-in' | 'moderator' | 'admin';

export interface Route {
  /** "/movies/:id" */
  pattern: string;
  /** Who may open it; others are sent to sign in, or told it is not for them. */
  access?: Access;
  /** A page in the main bundle... */
  page?: ComponentType<PageProps>;
  /** ...or loaded when first opened. */
  load?: () => Promise<{ default: ComponentType<PageProps> }>;
}
