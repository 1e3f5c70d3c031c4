/**
 * Boundaries between the folders of src/ (npm run lint:deps, part of npm run lint).
 *
 * Each folder of src/ is a domain (or a shared layer such as common/, database/, config/). A
 * domain owns its tables through its repository and its entity files; another domain asks the
 * owner's service. The rules below keep that true, and keep the folders in one direction so any
 * of them can be read, tested and changed without pulling the rest in.
 *
 * Any violation fails `npm run lint` with the name of the rule it breaks and the rule's comment.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-foreign-repository',
      comment:
        "A domain's repository is how that domain reads and writes its own tables. Another " +
        "domain calls the owner's service (exported from its Nest module) instead, so the owner " +
        'keeps its invariants, its row locks and its tenant scoping in one place.',
      severity: 'error',
      from: { path: '^src/([^/]+)/' },
      to: { path: '\\.repository\\.ts$', pathNot: '^src/$1/' },
    },
    {
      name: 'no-foreign-entity',
      comment:
        "A domain's entity files describe its tables; only that domain maps them. Another domain " +
        "goes through the owner's service and its types. The one list of every entity that " +
        'TypeORM needs is assembled outside the domain folders, in src/entities.ts. An entity ' +
        "class is also its rows' response schema, so another domain's dto/ files may name it as " +
        'the type of what they embed (an event answer lists the approvals it created); a DTO ' +
        'holds no transaction and cannot reach the table.',
      severity: 'error',
      from: { path: '^src/([^/]+)/', pathNot: '^src/[^/]+/dto/' },
      to: { path: '\\.entit(y|ies)\\.ts$', pathNot: '^src/$1/' },
    },
    {
      name: 'no-folder-cycles',
      comment:
        'Two folders of src/ depend on each other, through whichever files (a -> b -> a, or a ' +
        'longer loop). Folders form layers: pick the direction, and move what the lower one ' +
        'needs into it (or let it declare the small interface it needs) instead of importing ' +
        'back up. A subfolder is a folder of its own here: an import of src/b/sub/x.ts is one ' +
        'of src/b/sub, which is in the loop only if src/b/sub itself leads back.',
      severity: 'error',
      scope: 'folder',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'no-composition-root-in-folders',
      comment:
        'The files at the top of src/ (main, app.module, app.factory, entities, ...) assemble ' +
        'the folders into the application; a folder importing one of them depends on every ' +
        'folder, and the cycle it makes goes unseen by no-folder-cycles (which sees src/ as ' +
        'one folder). Pass what the folder needs in instead (as DatabaseModule.forRoot does).',
      severity: 'error',
      from: { path: '^src/[^/]+/' },
      to: { path: '^src/[^/]+$' },
    },
    {
      name: 'no-circular',
      comment:
        'Modules that import each other (directly or through others): the load order decides ' +
        'which of them sees the other half-initialised. Break the loop by moving the shared ' +
        'part into a module both import.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'no-test-or-bench-in-src',
      comment:
        'Application code may not import tests, test helpers or the benchmarks: they are not ' +
        'built into dist/ and would drag test-only code into production.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules|coverage)/' },
    // `import type` counts: a cycle of types is still a cycle between the folders.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
