import Anthropic from "@anthropic-ai/sdk";

const CHAT_MODEL = "claude-3-5-sonnet-20241022";

const anthropic = new Anthropic({ apiKey: process.env.ANTHROPIC_API_KEY });

export async function reply(history: { role: "user" | "assistant"; content: string }[]) {
  const message = await anthropic.messages.create({
    model: CHAT_MODEL,
    max_tokens: 1024,
    system: "You are Northwind's friendly chat assistant.",
    messages: history,
  });
  return message.content;
}
