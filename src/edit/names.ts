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
 * Given names: a small pool shared by many subjects, as common first names are. Measured: when the given
 * names were drawn from the syllables (nearly unique in a small world), the model keyed its facts on the
 * FIRST name token (swapping the residual there moved 57% of facts to another subject, at the last token
 * 10%), and ROME, which rewrites the subject's last token, reached ~50% efficacy.
 */
export const GIVEN_NAMES: readonly string[] = (
  'Ada Alan Anna Aron Bea Boris Carl Clara Dina Edgar Elsa Emil Erik Eva Felix Flora Greta Hugo Ida Igor ' +
  'Ines Ivan Jonas Julia Karl Lena Leon Lina Marta Max Mila Nils Nora Olga Oscar Paula Rosa Sven Tomas Vera'
).split(' ');

/**
 * Surnames are two syllable words from a pool of 48, the pair unique to its subject while each syllable is
 * shared by many. Measured: with a one-token surname unique to its subject, the last position read that
 * token's embedding directly and swapping the subject's representation changed 0-15% of facts; a surname
 * that only identifies the subject as a pair must be composed at its last token, where ROME edits.
 */
const SURNAME_SYLLABLES: readonly string[] = SYLLABLES.slice(0, 48);

/**
 * `count` distinct names, deterministic from the seed: one or two given names and a two-syllable surname,
 * 3-4 tokens. No single token identifies a subject; the name does, at its last token.
 */
export function generateNames(count: number, seed: number): string[] {
  const rng = new SeededRandom(seed);
  const names: string[] = [];
  const surnames = new Set<string>();
  const pick = (list: readonly string[]) => list[rng.nextInt(list.length)] as string;
  for (let tries = 0; names.length < count && tries < count * 100; tries++) {
    const surname = `${pick(SURNAME_SYLLABLES)} ${pick(SURNAME_SYLLABLES)}`;
    if (surnames.has(surname)) continue;
    surnames.add(surname);
    const given = rng.next() < 0.35 ? [pick(GIVEN_NAMES), pick(GIVEN_NAMES)] : [pick(GIVEN_NAMES)];
    names.push([...given, surname].join(' '));
  }
  if (names.length < count) throw new Error(`could only make ${names.length} distinct names`);
  return names;
}
