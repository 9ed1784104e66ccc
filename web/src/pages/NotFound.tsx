import { useTitle } from '../ui/hooks';

export function NotFound() {
  useTitle('Page not found');
  return (
    <section class="page narrow not-found">
      <h1>Page not found</h1>
      <p>There is nothing at this address. It may have moved, or the link may be mistyped.</p>
      <p>
        <a class="btn btn-primary" href="/movies">
          Browse the catalog
        </a>
      </p>
    </section>
  );
}
