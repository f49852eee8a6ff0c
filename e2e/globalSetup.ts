import { writeFixtures } from './fixtureFiles';

export default function globalSetup(): void {
  writeFixtures();
}
