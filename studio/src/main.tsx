import { render } from 'preact';
import { App } from './app.js';
import './styles.css';

const root = document.getElementById('studio')!;
// The server's "Loading…" placeholder goes; Preact would otherwise render next to it.
root.textContent = '';
render(<App />, root);
