/// <reference lib="webworker" />
// The page's analysis worker: all heavy work (reading, kernels, SVD) runs here, off the UI thread.
import { expose } from 'comlink';
import { AnalysisSession } from '../analysis/analysisSession';

expose(new AnalysisSession());
