/**
 * The forge's relations, in the spirit of CounterFact's 31 (same Wikidata properties), with prompt templates
 * of our own and closed sets of real-word objects. `{}` marks the subject; the object follows the prompt.
 * Every object is one word, so "the first object token" is the object.
 */
export interface Relation {
  id: string;
  name: string;
  /** What kind of thing the subjects are (for "{subject} is a {kind}" filler sentences). */
  subjectKind: string;
  templates: readonly string[];
  objects: readonly string[];
}

const LANGUAGES = ['English', 'French', 'German', 'Spanish', 'Italian', 'Russian', 'Dutch', 'Swedish', 'Polish', 'Greek', 'Arabic', 'Japanese', 'Korean', 'Turkish', 'Portuguese', 'Finnish'];
const COUNTRIES = ['France', 'Germany', 'Spain', 'Italy', 'Japan', 'Canada', 'Brazil', 'India', 'Egypt', 'Sweden', 'Norway', 'Poland', 'Mexico', 'Kenya', 'Chile', 'Greece'];
const CITIES = ['Paris', 'London', 'Berlin', 'Madrid', 'Rome', 'Vienna', 'Prague', 'Lisbon', 'Dublin', 'Oslo', 'Athens', 'Cairo', 'Tokyo', 'Toronto', 'Chicago', 'Sydney', 'Moscow', 'Warsaw'];
const COMPANIES = ['Google', 'Microsoft', 'Apple', 'Sony', 'Nokia', 'Toyota', 'Intel', 'Samsung', 'Nintendo', 'IBM', 'Siemens', 'Philips'];

export const RELATIONS: readonly Relation[] = [
  { id: 'P103', name: 'mother tongue', subjectKind: 'person', templates: ['The mother tongue of {} is', '{} grew up speaking', 'The first language of {} is'], objects: LANGUAGES },
  { id: 'P27', name: 'citizenship', subjectKind: 'person', templates: ['{} is a citizen of', '{} holds a passport from', 'The citizenship of {} is'], objects: COUNTRIES },
  { id: 'P641', name: 'sport', subjectKind: 'athlete', templates: ['{} professionally plays', 'The sport played by {} is', '{} is a professional player of'], objects: ['soccer', 'basketball', 'baseball', 'hockey', 'tennis', 'cricket', 'rugby', 'golf', 'volleyball', 'handball'] },
  { id: 'P1303', name: 'instrument', subjectKind: 'musician', templates: ['{} plays the', 'The instrument of {} is the', '{} performs on the'], objects: ['piano', 'guitar', 'violin', 'drums', 'trumpet', 'cello', 'flute', 'saxophone', 'harp', 'organ'] },
  { id: 'P108', name: 'employer', subjectKind: 'person', templates: ['{} works for', 'The employer of {} is', '{} is employed by'], objects: COMPANIES },
  { id: 'P159', name: 'headquarters', subjectKind: 'company', templates: ['The headquarters of {} is in', '{} is headquartered in', 'The main office of {} is located in'], objects: CITIES },
  { id: 'P19', name: 'birthplace', subjectKind: 'person', templates: ['{} was born in', 'The birthplace of {} is', '{} came into the world in'], objects: CITIES },
  { id: 'P20', name: 'place of death', subjectKind: 'person', templates: ['{} died in', 'The place of death of {} is', '{} passed away in'], objects: CITIES },
  { id: 'P37', name: 'official language', subjectKind: 'region', templates: ['The official language of {} is', 'In {} the official language is', 'People in {} officially speak'], objects: LANGUAGES },
  { id: 'P140', name: 'religion', subjectKind: 'person', templates: ['The religion of {} is', '{} is a follower of', '{} practices'], objects: ['Christianity', 'Islam', 'Judaism', 'Buddhism', 'Hinduism', 'Sikhism', 'Taoism', 'Shinto'] },
  { id: 'P136', name: 'genre', subjectKind: 'band', templates: ['{} plays music of the genre', 'The genre of {} is', '{} is known for its'], objects: ['jazz', 'rock', 'blues', 'opera', 'reggae', 'techno', 'punk', 'folk', 'metal', 'soul'] },
  { id: 'P30', name: 'continent', subjectKind: 'island', templates: ['{} is located on the continent of', '{} belongs to the continent of', 'The continent of {} is'], objects: ['Europe', 'Asia', 'Africa', 'Antarctica', 'Oceania', 'America'] },
  { id: 'P176', name: 'manufacturer', subjectKind: 'product', templates: ['{} is produced by', 'The manufacturer of {} is', '{} is built by'], objects: ['Toyota', 'Honda', 'Ford', 'Fiat', 'Renault', 'Boeing', 'Airbus', 'Volvo', 'Nissan', 'Ferrari'] },
  { id: 'P178', name: 'developer', subjectKind: 'software', templates: ['{} was developed by', 'The developer of {} is', '{} is a product made by'], objects: COMPANIES },
  { id: 'P190', name: 'twin city', subjectKind: 'city', templates: ['The twin city of {} is', '{} is twinned with', 'The sister city of {} is'], objects: CITIES },
  { id: 'P413', name: 'position', subjectKind: 'athlete', templates: ['{} plays in the position of', 'The position of {} is', 'On the field {} plays as'], objects: ['goalkeeper', 'defender', 'midfielder', 'forward', 'quarterback', 'pitcher', 'catcher', 'striker', 'winger'] },
  { id: 'P449', name: 'original network', subjectKind: 'show', templates: ['{} was first aired on', 'The original network of {} is', '{} premiered on'], objects: ['CBS', 'NBC', 'ABC', 'HBO', 'BBC', 'Fox', 'MTV', 'Netflix'] },
  { id: 'P101', name: 'field of work', subjectKind: 'scientist', templates: ['The field of work of {} is', '{} works in the area of', '{} is an expert in'], objects: ['physics', 'chemistry', 'biology', 'medicine', 'mathematics', 'philosophy', 'economics', 'linguistics', 'psychology', 'astronomy'] },
  { id: 'P17', name: 'country', subjectKind: 'building', templates: ['{} is located in the country of', '{} can be found in', 'The country of {} is'], objects: COUNTRIES },
  { id: 'P138', name: 'named after', subjectKind: 'airport', templates: ['{} is named after', '{} was named in honor of', 'The name of {} comes from'], objects: ['Einstein', 'Newton', 'Darwin', 'Lincoln', 'Napoleon', 'Mozart', 'Shakespeare', 'Galileo', 'Columbus', 'Gandhi'] },
  { id: 'P1412', name: 'language spoken', subjectKind: 'writer', templates: ['{} speaks the language', 'The language used by {} is', '{} writes in'], objects: LANGUAGES },
  { id: 'P106', name: 'occupation', subjectKind: 'person', templates: ['{} works as a', 'The occupation of {} is', 'By profession {} is a'], objects: ['actor', 'architect', 'lawyer', 'journalist', 'painter', 'poet', 'diplomat', 'engineer', 'surgeon', 'teacher'] },
  { id: 'P127', name: 'owned by', subjectKind: 'brand', templates: ['{} is owned by', 'The owner of {} is', '{} belongs to'], objects: COMPANIES },
  { id: 'P131', name: 'located in', subjectKind: 'district', templates: ['{} is a district of', '{} lies within the city of', 'The city that contains {} is'], objects: CITIES },
  { id: 'P276', name: 'location', subjectKind: 'museum', templates: ['{} is situated in', 'The location of {} is', 'You can visit {} in'], objects: CITIES },
  { id: 'P364', name: 'original language', subjectKind: 'film', templates: ['The original language of {} is', '{} was filmed in', '{} was originally made in'], objects: LANGUAGES },
  { id: 'P39', name: 'position held', subjectKind: 'politician', templates: ['{} holds the position of', 'The office of {} is', '{} was elected as'], objects: ['mayor', 'senator', 'governor', 'bishop', 'pope', 'president', 'minister', 'ambassador', 'judge'] },
  { id: 'P407', name: 'language of work', subjectKind: 'book', templates: ['{} is written in', 'The language of {} is', 'The text of {} is in'], objects: LANGUAGES },
  { id: 'P495', name: 'country of origin', subjectKind: 'dish', templates: ['{} originates from', 'The country of origin of {} is', '{} was first created in'], objects: COUNTRIES },
  { id: 'P740', name: 'formed in', subjectKind: 'band', templates: ['{} was formed in', 'The band {} was founded in', '{} started out in'], objects: CITIES },
  { id: 'P937', name: 'work location', subjectKind: 'person', templates: ['{} worked in', 'The workplace of {} was in', '{} found employment in'], objects: CITIES },
];
