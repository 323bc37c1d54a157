// A command's output on stdout; done once written (a command may exit right after).
import { writeText } from '../io.js';

export async function out(text: string): Promise<void> {
  await writeText(1, text);
}
