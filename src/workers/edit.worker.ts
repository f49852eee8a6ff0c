/// <reference lib="webworker" />
// The page's editor worker: ROME on the CPU engine (src/edit), one call at a time (Cancel excepted).
import { expose } from 'comlink';
import { EditSession } from '../analysis/editSession';
import { serialized } from './serialized';

expose(serialized(new EditSession(), ['cancel']));
