/** The dashboard's pages and their URLs, behind the login. Pages with an editor or charts load on first visit. */
import { Suspense, lazy } from 'react';
import { Navigate, Route, Routes } from 'react-router-dom';
import { Layout } from './components/layout';
import { SessionGate } from './components/session-gate';
import { Loading } from './components/states';
import { NotFoundPage } from './pages/not-found-page';
import { RunsPage } from './pages/runs-page';

const RunPage = lazy(() => import('./pages/run-page'));
const DefinitionsPage = lazy(() => import('./pages/definitions-page'));
const DefinitionPage = lazy(() => import('./pages/definition-page'));
const AppsPage = lazy(() => import('./pages/apps-page'));
const OverviewPage = lazy(() => import('./pages/overview-page'));
const ComparePage = lazy(() => import('./pages/compare-page'));
const SchedulePage = lazy(() => import('./pages/schedule-page'));
const TestsPage = lazy(() => import('./pages/tests-page'));
const TestPage = lazy(() => import('./pages/test-page'));
const CategoriesPage = lazy(() => import('./pages/categories-page'));

export function App() {
  return (
    <SessionGate>
      <Layout>
        <Suspense fallback={<Loading label="Loading the page…" />}>
          <Routes>
            <Route path="/" element={<Navigate to="/runs" replace />} />
            <Route path="/runs" element={<RunsPage />} />
            <Route path="/runs/:id" element={<RunPage />} />
            <Route path="/tests" element={<TestsPage />} />
            <Route path="/tests/:id" element={<TestPage />} />
            <Route path="/definitions" element={<DefinitionsPage />} />
            <Route path="/definitions/new" element={<DefinitionPage />} />
            <Route path="/definitions/:ref" element={<DefinitionPage />} />
            <Route path="/apps" element={<AppsPage />} />
            <Route path="/overview" element={<OverviewPage />} />
            <Route path="/categories" element={<CategoriesPage />} />
            <Route path="/compare" element={<ComparePage />} />
            <Route path="/schedule" element={<SchedulePage />} />
            <Route path="*" element={<NotFoundPage />} />
          </Routes>
        </Suspense>
      </Layout>
    </SessionGate>
  );
}
