// Prints a Stripe-Signature header for the payload on stdin, made by Stripe's own SDK:
//   node stripe_sign.mjs <endpoint secret> [unix timestamp]
import Stripe from "stripe";

const [secret, timestamp] = process.argv.slice(2);
const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const payload = Buffer.concat(chunks).toString("utf8");
const stripe = new Stripe("sk_test_interop_unused");
const header = stripe.webhooks.generateTestHeaderString({
  payload,
  secret,
  ...(timestamp ? { timestamp: Number(timestamp) } : {}),
});
process.stdout.write(header);
