// s3rver-creds.js - the signature-checking s3rver 4.0.4 with the key
// pairs of production credentials, for tests/awscred.bats:
//
//   node s3rver-creds.js KEYFILE [s3rver options...]
//
// KEYFILE holds static pairs, "ID<TAB>SECRET" a line (an ID may hold ':',
// a SECRET any printable character).  Besides, the temporary keys that
// tests/awsstub.py hands out are accepted: ID "ASIATEMP<n>X<expiry>",
// secret "secret-ID", session token "token-ID", which must be sent and
// signed (x-amz-security-token among the SignedHeaders), until <expiry>
// (seconds since the epoch): after it, ExpiredToken, as S3 answers.
'use strict';
const fs = require('fs');
const path = require('path');
// the servers are installed where tests/servers.bash's ARC_NODE_MODULES says
const lib = path.join(process.env.ARC_NODE_MODULES ||
    path.join(__dirname, '../.test-servers/node_modules'), '@20minutes/s3rver/lib');
const AWSAccount = require(path.join(lib, 'models/account'));
const S3Error = require(path.join(lib, 'models/error'));
const v4 = require(path.join(lib, 'signature/v4'));

const [keyfile] = process.argv.splice(2, 1);
for (const line of fs.readFileSync(keyfile, 'utf8').split('\n')) {
	const tab = line.indexOf('\t');
	if (tab > 0)
		AWSAccount.DUMMY_ACCOUNT.createKeyPair(line.slice(0, tab),
		    line.slice(tab + 1));
}

const TEMP = /^ASIATEMP[0-9]+X([0-9]+)$/;
const parse = v4.parseHeader;
v4.parseHeader = function (headers) {
	const req = parse(headers);
	const m = TEMP.exec(req.accessKeyId);
	if (m === null)
		return req;
	if (headers['x-amz-security-token'] !== 'token-' + req.accessKeyId ||
	    !req.signedHeaders.includes('x-amz-security-token'))
		throw new S3Error('InvalidToken',
		    'The provided token is malformed or otherwise invalid.');
	if (Date.now() / 1000 > Number(m[1]))
		throw new S3Error('ExpiredToken',
		    'The provided token has expired.');
	AWSAccount.DUMMY_ACCOUNT.createKeyPair(req.accessKeyId,
	    'secret-' + req.accessKeyId);
	return req;
};

require(path.join(lib, 'cli')).parseAsync(process.argv);
