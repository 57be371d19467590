// Pays URL with mppx@0.11.0's own client: it reads the 402, builds the stripe credential
// itself (payload {spt}) and retries once. The SPT comes from env SPT (an approved
// linkpay spend request's token). Prints {status, receipt, body} as one JSON line.
import { Mppx, stripe } from 'mppx/client'

const [url] = process.argv.slice(2)
const mppx = Mppx.create({
  polyfill: false,
  methods: [
    stripe.charge({
      paymentMethod: 'pm_linkpay_interop',
      createToken: async () => process.env.SPT,
    }),
  ],
})
const response = await mppx.fetch(url)
process.stdout.write(
  `${JSON.stringify({
    status: response.status,
    receipt: response.headers.get('payment-receipt'),
    body: await response.text(),
  })}\n`,
)
