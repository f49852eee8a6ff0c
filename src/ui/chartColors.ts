export const COLORS = { normal: '#4c78a8', flagged: '#d62728', positive: '#4c78a8', negative: '#f58518', grid: '#ddd' } as const;
