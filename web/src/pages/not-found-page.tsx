import { Link, useLocation } from 'react-router-dom';
import { Empty } from '../components/states';
import { useDocumentTitle } from '../hooks/use-document-title';

export function NotFoundPage() {
  const location = useLocation();
  useDocumentTitle('Not found');
  return (
    <Empty title="No such page">
      <p>
        There is no page at <code>{location.pathname}</code>. See the <Link to="/runs">runs</Link>.
      </p>
    </Empty>
  );
}
