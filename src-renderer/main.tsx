import { createRoot } from 'react-dom/client';
import './styles.css';
createRoot(document.getElementById('root')!).render(<div className="p-4 text-red-600">hi</div>);
