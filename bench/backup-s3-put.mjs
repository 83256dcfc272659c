// Uploads stdin to S3 with @aws-sdk/lib-storage (the same client settings as tsredis-ops): the
// "aws s3 cp - s3://…" step of the shell pipeline in bench/backup-vs-shell.sh.
// Usage: node backup-s3-put.mjs ENDPOINT BUCKET KEY
import { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const [endpoint, Bucket, Key] = process.argv.slice(2);
const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
await new Upload({ client, params: { Bucket, Key, Body: process.stdin }, partSize: 16 << 20, queueSize: 2 }).done();
