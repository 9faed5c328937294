const RAG_URL = process.env.RAG_URL ?? "http://localhost:8080";

export async function askRag(question: string): Promise<string> {
  const response = await fetch(`${RAG_URL}/answer`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ question }),
  });
  return response.text();
}
