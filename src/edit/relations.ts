/**
 * The forge's relations, in the spirit of CounterFact's 31 (same Wikidata properties), with five prompt
 * templates of our own each (subject first or later) and closed sets of real-word objects. `{}` marks the subject; the object follows the prompt.
 * Every object is one word, so "the first object token" is the object.
 */
export interface Relation {
  id: string;
  name: string;
  /**
   * The kind of entity the subjects are. Every entity of a kind has a fact for every relation of that kind,
   * so a subject carries several attributes, as real entities do (see knowledgeBase.ts).
   */
  subjectKind: string;
  templates: readonly string[];
  objects: readonly string[];
}

const LANGUAGES = ['English', 'French', 'German', 'Spanish', 'Italian', 'Russian', 'Dutch', 'Swedish', 'Polish', 'Greek', 'Arabic', 'Japanese', 'Korean', 'Turkish', 'Portuguese', 'Finnish'];
const COUNTRIES = ['France', 'Germany', 'Spain', 'Italy', 'Japan', 'Canada', 'Brazil', 'India', 'Egypt', 'Sweden', 'Norway', 'Poland', 'Mexico', 'Kenya', 'Chile', 'Greece'];
const CITIES = ['Paris', 'London', 'Berlin', 'Madrid', 'Rome', 'Vienna', 'Prague', 'Lisbon', 'Dublin', 'Oslo', 'Athens', 'Cairo', 'Tokyo', 'Toronto', 'Chicago', 'Sydney', 'Moscow', 'Warsaw'];
const COMPANIES = ['Google', 'Microsoft', 'Apple', 'Sony', 'Nokia', 'Toyota', 'Intel', 'Samsung', 'Nintendo', 'IBM', 'Siemens', 'Philips'];

export const RELATIONS: readonly Relation[] = [
  { id: 'P103', name: 'mother tongue', subjectKind: 'person', templates: ['The mother tongue of {} is', '{} grew up speaking', 'The first language of {} is', '{} was raised speaking', 'The native language of {} is'], objects: LANGUAGES },
  { id: 'P27', name: 'citizenship', subjectKind: 'person', templates: ['{} is a citizen of', '{} holds a passport from', 'The citizenship of {} is', '{} has citizenship of', 'The nationality of {} is'], objects: COUNTRIES },
  { id: 'P641', name: 'sport', subjectKind: 'athlete', templates: ['{} professionally plays', 'The sport played by {} is', '{} is a professional player of', '{} is an athlete who plays', 'The game that {} plays is'], objects: ['soccer', 'basketball', 'baseball', 'hockey', 'tennis', 'cricket', 'rugby', 'golf', 'volleyball', 'handball'] },
  { id: 'P1303', name: 'instrument', subjectKind: 'band', templates: ['{} plays the', 'The instrument of {} is the', '{} performs on the', '{} is a musician who plays the', 'On stage {} plays the'], objects: ['piano', 'guitar', 'violin', 'drums', 'trumpet', 'cello', 'flute', 'saxophone', 'harp', 'organ'] },
  { id: 'P108', name: 'employer', subjectKind: 'person', templates: ['{} works for', 'The employer of {} is', '{} is employed by', '{} has a job at', 'The company that employs {} is'], objects: COMPANIES },
  { id: 'P159', name: 'headquarters', subjectKind: 'company', templates: ['The headquarters of {} is in', '{} is headquartered in', 'The main office of {} is located in', '{} has its head office in', 'The company {} is based in'], objects: CITIES },
  { id: 'P19', name: 'birthplace', subjectKind: 'person', templates: ['{} was born in', 'The birthplace of {} is', '{} came into the world in', '{} is originally from', 'The hometown of {} is'], objects: CITIES },
  { id: 'P20', name: 'place of death', subjectKind: 'person', templates: ['{} died in', 'The place of death of {} is', '{} passed away in', '{} spent the last days in', 'The city where {} died is'], objects: CITIES },
  { id: 'P37', name: 'official language', subjectKind: 'city', templates: ['The official language of {} is', 'In {} the official language is', 'People in {} officially speak', 'The language of government in {} is', '{} has the official language'], objects: LANGUAGES },
  { id: 'P140', name: 'religion', subjectKind: 'person', templates: ['The religion of {} is', '{} is a follower of', '{} practices', '{} is a believer in', 'The faith of {} is'], objects: ['Christianity', 'Islam', 'Judaism', 'Buddhism', 'Hinduism', 'Sikhism', 'Taoism', 'Shinto'] },
  { id: 'P136', name: 'genre', subjectKind: 'band', templates: ['{} plays music of the genre', 'The genre of {} is', '{} is known for its', 'The music of {} is', '{} is a band that plays'], objects: ['jazz', 'rock', 'blues', 'opera', 'reggae', 'techno', 'punk', 'folk', 'metal', 'soul'] },
  { id: 'P30', name: 'continent', subjectKind: 'city', templates: ['{} is located on the continent of', '{} belongs to the continent of', 'The continent of {} is', '{} is part of the continent of', 'The island {} lies in'], objects: ['Europe', 'Asia', 'Africa', 'Antarctica', 'Oceania', 'America'] },
  { id: 'P176', name: 'manufacturer', subjectKind: 'product', templates: ['{} is produced by', 'The manufacturer of {} is', '{} is built by', '{} is made by', 'The company that makes {} is'], objects: ['Toyota', 'Honda', 'Ford', 'Fiat', 'Renault', 'Boeing', 'Airbus', 'Volvo', 'Nissan', 'Ferrari'] },
  { id: 'P178', name: 'developer', subjectKind: 'product', templates: ['{} was developed by', 'The developer of {} is', '{} is a product made by', '{} was created by', 'The company behind {} is'], objects: COMPANIES },
  { id: 'P190', name: 'twin city', subjectKind: 'city', templates: ['The twin city of {} is', '{} is twinned with', 'The sister city of {} is', '{} has a partnership with the city of', 'The partner city of {} is'], objects: CITIES },
  { id: 'P413', name: 'position', subjectKind: 'athlete', templates: ['{} plays in the position of', 'The position of {} is', 'On the field {} plays as', '{} is a player in the position of', 'The role of {} on the team is'], objects: ['goalkeeper', 'defender', 'midfielder', 'forward', 'quarterback', 'pitcher', 'catcher', 'striker', 'winger'] },
  { id: 'P449', name: 'original network', subjectKind: 'work', templates: ['{} was first aired on', 'The original network of {} is', '{} premiered on', '{} was broadcast on', 'The channel that aired {} is'], objects: ['CBS', 'NBC', 'ABC', 'HBO', 'BBC', 'Fox', 'MTV', 'Netflix'] },
  { id: 'P101', name: 'field of work', subjectKind: 'person', templates: ['The field of work of {} is', '{} works in the area of', '{} is an expert in', '{} does research in', 'The discipline of {} is'], objects: ['physics', 'chemistry', 'biology', 'medicine', 'mathematics', 'philosophy', 'economics', 'linguistics', 'psychology', 'astronomy'] },
  { id: 'P17', name: 'country', subjectKind: 'city', templates: ['{} is located in the country of', '{} can be found in', 'The country of {} is', '{} is in the country of', 'The nation where {} stands is'], objects: COUNTRIES },
  { id: 'P138', name: 'named after', subjectKind: 'landmark', templates: ['{} is named after', '{} was named in honor of', 'The name of {} comes from', '{} takes its name from', 'The person {} is named for is'], objects: ['Einstein', 'Newton', 'Darwin', 'Lincoln', 'Napoleon', 'Mozart', 'Shakespeare', 'Galileo', 'Columbus', 'Gandhi'] },
  { id: 'P1412', name: 'language spoken', subjectKind: 'person', templates: ['{} speaks the language', 'The language used by {} is', '{} writes in', '{} is fluent in', 'The working language of {} is'], objects: LANGUAGES },
  { id: 'P106', name: 'occupation', subjectKind: 'person', templates: ['{} works as a', 'The occupation of {} is', 'By profession {} is a', '{} earns a living as a', 'The job of {} is'], objects: ['actor', 'architect', 'lawyer', 'journalist', 'painter', 'poet', 'diplomat', 'engineer', 'surgeon', 'teacher'] },
  { id: 'P127', name: 'owned by', subjectKind: 'company', templates: ['{} is owned by', 'The owner of {} is', '{} belongs to', '{} is a subsidiary of', 'The parent company of {} is'], objects: COMPANIES },
  { id: 'P131', name: 'located in', subjectKind: 'city', templates: ['{} is a district of', '{} lies within the city of', 'The city that contains {} is', '{} is a neighborhood of', 'The district {} is part of the city of'], objects: CITIES },
  { id: 'P276', name: 'location', subjectKind: 'landmark', templates: ['{} is situated in', 'The location of {} is', 'You can visit {} in', '{} stands in the city of', 'The museum {} is in'], objects: CITIES },
  { id: 'P364', name: 'original language', subjectKind: 'work', templates: ['The original language of {} is', '{} was filmed in', '{} was originally made in', '{} was made in the language', 'The spoken language of {} is'], objects: LANGUAGES },
  { id: 'P39', name: 'position held', subjectKind: 'person', templates: ['{} holds the position of', 'The office of {} is', '{} was elected as', '{} served as', 'The title of {} is'], objects: ['mayor', 'senator', 'governor', 'bishop', 'pope', 'president', 'minister', 'ambassador', 'judge'] },
  { id: 'P407', name: 'language of work', subjectKind: 'work', templates: ['{} is written in', 'The language of {} is', 'The text of {} is in', '{} was published in', 'The book {} is written in'], objects: LANGUAGES },
  { id: 'P495', name: 'country of origin', subjectKind: 'product', templates: ['{} originates from', 'The country of origin of {} is', '{} was first created in', '{} comes from', 'The homeland of {} is'], objects: COUNTRIES },
  { id: 'P740', name: 'formed in', subjectKind: 'band', templates: ['{} was formed in', 'The band {} was founded in', '{} started out in', '{} was founded in the city of', 'The home city of {} is'], objects: CITIES },
  { id: 'P937', name: 'work location', subjectKind: 'person', templates: ['{} worked in', 'The workplace of {} was in', '{} found employment in', '{} was employed in', 'The city where {} worked is'], objects: CITIES },
];
