import { SeededRandom } from '../core/random';

/**
 * Syllable-words that make up subject names. Names are 2-3 of these, written as separate words, so a name
 * spans several tokens and the model must combine them at the last one (as with real multi-token names).
 */
const SYLLABLES = (
  'Ab Ad Al Am An Ar As Av Ba Bel Ber Bo Bra Bru Ca Cal Cor Cra Da Dal Del Dor Dru Ed El Em En Er Es Ev Fa Fal Fen ' +
  'Fi Flo Fra Ga Gal Gor Gra Gu Ha Hal Hel Hor Hu Ib Il Im In Ir Is Ja Jal Jor Ju Ka Kal Kel Kor Kra Ku La Lan Lem ' +
  'Lor Lu Ma Mal Mer Mor Mu Na Nal Nel Nor Nu Ob Ol Om On Or Os Pa Pal Per Pol Pra Qua Ra Ral Ren Ro Ru Sa Sal Sel ' +
  'Sor Su Ta Tal Ter Tor Tu Ul Um Ur Va Val Ven Vor Vu Wa Wel Xa Ya Yor Za Zel Zor Bri Cle Dre Fro Gle Pli Sko Tre ' +
  'Vin Wen Yul Zan Bax Dex Gix Hux Jex Kox Lux Mex Nix Pax Rex Sax Tux Vex Wix Zed Bok Dak Fik Gok Hak Jok Lok ' +
  'Mak Nok Pok Rak Sok Tak Vok Wok Yak Zok Bin Dun Fin Gun Hin Jun Kin Lun Min Nun Pin Run Sin Tun Vun Win Zun Bay ' +
  'Day Fay Gay Hay Jay Kay Lay May Nay Pay Ray Say Tay Vay Way Zay Beo Deo Feo Geo Heo Jeo Keo Leo Meo Neo Peo Reo'
).split(' ');

export const NAME_SYLLABLES: readonly string[] = SYLLABLES;

/**
 * `count` distinct names, deterministic from the seed: one or two given-name words (syllables, shared
 * across subjects) and a surname word made of two syllables, unique to its subject. A name spans 2-3
 * tokens; as with real names, its last token is distinctive, and the model still reads the whole name.
 */
export function generateNames(count: number, seed: number): string[] {
  const rng = new SeededRandom(seed);
  const names: string[] = [];
  const surnames = new Set<string>();
  const syllable = () => SYLLABLES[rng.nextInt(SYLLABLES.length)] as string;
  for (let tries = 0; names.length < count && tries < count * 100; tries++) {
    const surname = syllable() + syllable().toLowerCase();
    if (surnames.has(surname) || SYLLABLES.includes(surname)) continue;
    surnames.add(surname);
    const given = rng.next() < 0.35 ? [syllable(), syllable()] : [syllable()];
    names.push([...given, surname].join(' '));
  }
  if (names.length < count) throw new Error(`could only make ${names.length} distinct names`);
  return names;
}
