// A local S3 endpoint for the backup benchmarks: s3rver on PORT storing under DIR, bucket "bench".
// Usage: node backup-s3-server.mjs PORT DIR
import S3rver from 's3rver';
const [port, directory] = process.argv.slice(2);
await new S3rver({ port: Number(port), address: '127.0.0.1', silent: true, directory, configureBuckets: [{ name: 'bench' }] }).run();
console.log('ready');
