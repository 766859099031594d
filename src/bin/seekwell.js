#!/usr/bin/env node
// The `seekwell` command (package.json "bin"): the server ships as TypeScript with no build step,
// so this registers tsx's loader and runs src/main.ts, which reads the flags.
import { register } from 'tsx/esm/api';

register();
await import('../main.ts');
