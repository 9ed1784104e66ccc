// /admin: the administrators' pages open on the users.
import { useEffect } from 'preact/hooks';
import { navigate } from '../../router';
import { Loading } from '../../ui/common';

export default function AdminHome() {
  useEffect(() => navigate('/admin/users', { replace: true }), []);
  return <Loading />;
}
