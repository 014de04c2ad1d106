import cluster from 'node:cluster';
import { Worker } from 'node:worker_threads';
const DB = process.argv[2]; const WORKERS = Number(process.argv[3]); const N = Number(process.argv[4] ?? 100000); const SERIALS = Number(process.argv[5]);
if (cluster.isPrimary) {
  for (let i = 0; i < WORKERS; i++) cluster.fork();
  let ready = 0;
  cluster.on('message', (_w, m) => { if (m.port && ++ready === WORKERS) run(m.port); });
  function run(port) {
    const w = new Worker(`
const { connect } = require('node:net'); const { workerData, parentPort } = require('node:worker_threads');
function conn(){return new Promise(r=>{const s=connect({host:'127.0.0.1',port:workerData.port},()=>{s.setNoDelay(true);let buf='',w=null;s.setEncoding('latin1');s.on('data',c=>{buf+=c;const he=buf.indexOf('\\r\\n\\r\\n');if(he<0)return;const m=/content-length: *([0-9]+)/i.exec(buf.slice(0,he));const L=m?Number(m[1]):0;if(buf.length<he+4+L)return;buf=buf.slice(he+4+L);const x=w;w=null;x();});r({get(p){return new Promise(res=>{w=res;s.write('GET '+p+' HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n');});}});});});}
(async()=>{const cs=await Promise.all(Array.from({length:16},conn));
const path=()=>{const i=Math.floor(Math.random()*workerData.serials);return '/v1/supply/verify/01/00614141107346/10/L'+Math.floor(i/100000)+'/21/S'+String(i).padStart(9,'0')+'?exp=311231&corrUUID=b1';};
for(let k=0;k<4000;k++) await cs[k%16].get(path());
const n=workerData.n;let i=0;const t=performance.now();
await Promise.all(cs.map(async c=>{while(i<n){i++;await c.get(path());}}));
parentPort.postMessage(Math.round(n/((performance.now()-t)/1000)));})();`, { eval: true, workerData: { port, n: N, serials: SERIALS } });
    w.on('message', (m) => { console.log(WORKERS, 'server processes:', m, 'rps'); process.exit(0); });
  }
} else {
  const Fastify = (await import('fastify')).default;
  const { LedgerStore } = await import('./dist/node/store/ledger-store.js');
  const { SupplyService } = await import('./dist/node/supply/supply-service.js');
  const store = LedgerStore.open(DB, { readonly: true });
  const svc = new SupplyService({ getState: (k) => store.getState(k), chainHead: () => ({ height: 1 }), onBlock: () => () => {} }, { clock: { now: () => Date.now() } });
  const app = Fastify();
  app.get('/v1/supply/verify/01/:gtin/10/:lot/21/:serial', (req) => svc.verify({ ...req.query, ...req.params }));
  await app.listen({ port: 47123, host: '127.0.0.1' });
  process.send({ port: 47123 });
}
