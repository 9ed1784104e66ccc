// /studio: the studio opens on its movies.
import { useEffect } from 'preact/hooks';
import { navigate } from '../../router';
import { Loading } from '../../ui/common';

export default function StudioHome() {
  useEffect(() => navigate('/studio/movies', { replace: true }), []);
  return <Loading />;
}
