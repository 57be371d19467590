// An mppx@0.11.0 merchant on loopback whose stripe method settles through a linkpay
// wallet's POST /v1/payment_intents (our wallet as the Stripe-compatible processor).
//
// Env: WALLET_URL, MERCHANT_API_KEY (sk_test_…), NETWORK_ID (profile_…), MPP_SECRET
// (≥ 32 bytes), PORT (0 = any). Prints one JSON line {"url": "http://127.0.0.1:PORT"}
// once listening. GET /paid costs 1.00 USD; GET /free is free.
import http from 'node:http'
import { Mppx, NodeListener, stripe } from 'mppx/server'

const walletUrl = process.env.WALLET_URL.replace(/\/$/, '')
const apiKey = process.env.MERCHANT_API_KEY

// The duck-typed Stripe client mppx accepts: paymentIntents.create(params, options).
const walletProcessor = {
  paymentIntents: {
    async create(params, options) {
      const form = new URLSearchParams()
      form.set('amount', String(params.amount))
      form.set('currency', params.currency)
      form.set('confirm', 'true')
      form.set('shared_payment_granted_token', params.shared_payment_granted_token)
      for (const [key, value] of Object.entries(params.metadata ?? {}))
        form.set(`metadata[${key}]`, String(value))
      const response = await fetch(`${walletUrl}/v1/payment_intents`, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${apiKey}`,
          'Content-Type': 'application/x-www-form-urlencoded',
          'Idempotency-Key': options.idempotencyKey,
        },
        body: form,
      })
      const body = await response.json()
      if (!response.ok) throw new Error(body?.error?.decline_code ?? body?.error?.code ?? 'declined')
      return {
        id: body.id,
        status: body.status,
        lastResponse: { headers: { 'idempotent-replayed': response.headers.get('idempotent-replayed') ?? 'false' } },
      }
    },
  },
}

const mppx = Mppx.create({
  methods: [
    stripe.charge({
      client: walletProcessor,
      networkId: process.env.NETWORK_ID,
      paymentMethodTypes: ['card'],
      currency: 'usd',
      decimals: 2,
    }),
  ],
  secretKey: process.env.MPP_SECRET,
  realm: 'mppx-interop.local',
})

const paid = mppx.charge({ amount: '1.00', description: 'mppx interop resource' })

const server = http.createServer(async (req, res) => {
  try {
    const url = `http://${req.headers.host}${req.url}`
    const headers = new Headers()
    for (const [name, value] of Object.entries(req.headers)) {
      if (Array.isArray(value)) for (const v of value) headers.append(name, v)
      else if (value !== undefined) headers.set(name, value)
    }
    const request = new Request(url, { method: req.method, headers })
    if (req.url === '/free') {
      await NodeListener.sendResponse(res, Response.json({ free: true }))
      return
    }
    const result = await paid(request)
    if (result.status === 402) {
      await NodeListener.sendResponse(res, result.challenge)
      return
    }
    await NodeListener.sendResponse(res, result.withReceipt(Response.json({ paid: true, by: 'mppx' })))
  } catch (error) {
    res.statusCode = 500
    res.setHeader('Content-Type', 'application/json')
    res.end(JSON.stringify({ error: String(error?.message ?? error) }))
  }
})

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const { port } = server.address()
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`)
})
process.on('SIGTERM', () => server.close(() => process.exit(0)))
