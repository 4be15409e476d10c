// @20minutes/s3rver 4.0.4 ships without its bin file; this is its CLI.
require('@20minutes/s3rver/lib/cli').parseAsync(process.argv);
