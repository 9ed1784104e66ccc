// The API calls of the four lookups (genres, stars, directors,
// certifications), in one shape for the pickers and the lookup pages.
import { api, call, type Schemas } from '../../api/client';
import type { LookupKind } from './common';
import type { Option } from './Picker';

export type Lookup = Schemas['Lookup'];

export interface LookupList {
  items: Lookup[];
  page: number;
  totalPages: number;
  totalItems: number;
}

const PER_PAGE = 20;

/** Genres and certifications come whole: searched and paged here, as the server does for stars and directors. */
function pageOf(all: Lookup[], search: string, page: number): LookupList {
  const q = search.trim().toLowerCase();
  const hits = q ? all.filter((l) => l.name.toLowerCase().includes(q)) : all;
  const totalPages = Math.max(1, Math.ceil(hits.length / PER_PAGE));
  return { items: hits.slice((page - 1) * PER_PAGE, page * PER_PAGE), page, totalPages, totalItems: hits.length };
}

export async function listLookups(kind: LookupKind, search: string, page: number): Promise<LookupList> {
  const s = search.trim() || undefined;
  switch (kind) {
    case 'genre':
      return pageOf(await call(api.GET('/api/v1/genres')), search, page);
    case 'certification':
      return pageOf(await call(api.GET('/api/v1/certifications')), search, page);
    case 'star': {
      const p = await call(api.GET('/api/v1/stars', { params: { query: { search: s, page, per_page: PER_PAGE } } }));
      return { items: p.items, page: p.page, totalPages: Math.max(1, p.total_pages), totalItems: p.total_items };
    }
    case 'director': {
      const p = await call(api.GET('/api/v1/directors', { params: { query: { search: s, page, per_page: PER_PAGE } } }));
      return { items: p.items, page: p.page, totalPages: Math.max(1, p.total_pages), totalItems: p.total_items };
    }
  }
}

export function createLookup(kind: LookupKind, name: string): Promise<Lookup> {
  const body = { body: { name } };
  switch (kind) {
    case 'genre':
      return call(api.POST('/api/v1/genres', body));
    case 'star':
      return call(api.POST('/api/v1/stars', body));
    case 'director':
      return call(api.POST('/api/v1/directors', body));
    case 'certification':
      return call(api.POST('/api/v1/certifications', body));
  }
}

export function renameLookup(kind: LookupKind, id: number, name: string): Promise<Lookup> {
  const req = { params: { path: { id } }, body: { name } };
  switch (kind) {
    case 'genre':
      return call(api.PATCH('/api/v1/genres/{id}', req));
    case 'star':
      return call(api.PATCH('/api/v1/stars/{id}', req));
    case 'director':
      return call(api.PATCH('/api/v1/directors/{id}', req));
    case 'certification':
      return call(api.PATCH('/api/v1/certifications/{id}', req));
  }
}

export function deleteLookup(kind: LookupKind, id: number): Promise<void> {
  const req = { params: { path: { id } } };
  switch (kind) {
    case 'genre':
      return call(api.DELETE('/api/v1/genres/{id}', req));
    case 'star':
      return call(api.DELETE('/api/v1/stars/{id}', req));
    case 'director':
      return call(api.DELETE('/api/v1/directors/{id}', req));
    case 'certification':
      return call(api.DELETE('/api/v1/certifications/{id}', req));
  }
}

/** The picker's search: the first dozen matches. */
export async function searchLookups(kind: LookupKind, text: string): Promise<Option[]> {
  if (kind === 'genre' || kind === 'certification') return (await listLookups(kind, text, 1)).items;
  const s = text || undefined;
  const q = { params: { query: { search: s, per_page: 12 } } };
  const p = kind === 'star' ? await call(api.GET('/api/v1/stars', q)) : await call(api.GET('/api/v1/directors', q));
  return p.items;
}
