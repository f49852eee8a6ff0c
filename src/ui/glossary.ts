/** One-line explanations of every term the views show (hover or focus a term; the Glossary lists them all). */
export const GLOSSARY = {
  pcs: 'Pairwise cosine similarity: the mean cosine between every two rows of the MLP output matrix (paper Eq. 3). A ROME update whose u has one sign pulls all rows one way, so pcs jumps.',
  z: 'Robust z-score: how many (scaled) median absolute deviations a layer lies above the median of the other layers. A layer is flagged at z >= 6.',
  keyGap: 'keys gap: the largest σj/σj+1 (j = 1..10) of the matrix whitened by its own keys — keys sampled from the layer\'s norm, input weights and activation, no text needed. ROME as published writes u = C⁻¹k*, along key directions the layer\'s inputs rarely take; there the edit stands out even when it is no larger than W\'s own top singular values. Flagged at 1.6 (unedited trained layers: at most 1.45).',
  sigmaRatio: 'σ1/σ2: the largest singular value over the second, of the matrix with every row scaled to unit length. A rank-one update large enough to rewrite a fact makes one direction dominate, whatever the signs of u.',
  sameDirection: 'Same direction: the share of the update rows u_i·λ pointing the majority way, i.e. of u’s entries with the majority sign (paper Fig. 2). Estimated from the top singular vector without an original, exact from W′ − W with one.',
  estimatedU: 'Estimated u: the top left singular vector of the (row-normalised) matrix, the weights-only stand-in for ROME’s u.',
  contrast: 'Contrast: how much more likely a token becomes when the edit’s value is written at a made-up subject than with the value the layer gave before the edit (training-free readout).',
  rankOneShare: 'Rank-one share: σ1² / Σσ² of W′ − W, 1 for an exact rank-one update such as ROME’s.',
  k: 'k: how many top singular components are dropped in the bottom-rank approximation W̃(r, k) (paper Sec. 7).',
  frobenius: '‖W′ − W‖F: the size of the exact change from the original (Frobenius norm); zero for untouched layers.',
  flagged: 'Flagged (red): the verdict from the weights alone says this layer looks edited; blue: it does not.',
  mom2: 'mom2 adjustment: ROME’s u = C^-1 k*, with C = E[k kᵀ] the second moment of the layer’s MLP keys over neutral text (on for GPT-2 XL and GPT-J as published); off: u = k* (EasyEdit’s Llama 3 setting).',
  vStar: 'v*: the MLP output at the subject’s last token that makes the model say the new object (Adam on the target’s log-likelihood over the context templates, a KL term keeping “{subject} is a” in place, and weight decay). The chart shows its loss per step.',
  strength: 'Strength s: the update applied as W + s·u·λᵀ. s = 1 is the edit ROME computed; smaller shows where the edit stops taking, larger how the signature grows.',
  contextTemplates: 'Context templates: short texts sampled from the model itself and put before the prompt (“length × count”, published 5×10,10×10); k* and v* average over them so the edit holds in other contexts.',
} as const;

export type Term = keyof typeof GLOSSARY;
