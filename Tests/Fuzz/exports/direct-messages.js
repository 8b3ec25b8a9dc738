window.YTD.direct_messages.part0 = [
  {
    "dmConversation" : {
      "conversationId" : "1510000000000000001-1620000000000000002",
      "messages" : [
        {
          "messageCreate" : {
            "recipientId" : "1620000000000000002",
            "reactions" : [ ],
            "urls" : [ ],
            "text" : "Bonjour, le lot 2 inclut-il la signalisation horizontale ? Le CCTP n'est pas clair sur ce point.",
            "mediaUrls" : [ ],
            "senderId" : "1510000000000000001",
            "id" : "1899012345678901234",
            "createdAt" : "2026-03-10T08:14:00.000Z"
          }
        },
        {
          "messageCreate" : {
            "recipientId" : "1510000000000000001",
            "reactions" : [
              {
                "senderId" : "1510000000000000001",
                "reactionKey" : "like",
                "eventId" : "1899016000000000000",
                "createdAt" : "2026-03-10T11:02:00.000Z"
              }
            ],
            "urls" : [ ],
            "text" : "Oui, la signalisation horizontale est incluse au lot 2 (article 3.4 du CCTP).",
            "mediaUrls" : [ ],
            "senderId" : "1620000000000000002",
            "id" : "1899015555678901234",
            "createdAt" : "2026-03-10T10:47:00.000Z"
          }
        },
        {
          "messageCreate" : {
            "recipientId" : "1620000000000000002",
            "reactions" : [ ],
            "urls" : [ ],
            "text" : "Merci beaucoup !",
            "mediaUrls" : [ ],
            "senderId" : "1510000000000000001",
            "id" : "1899016666678901234",
            "createdAt" : "10 mars 2026"
          }
        }
      ]
    }
  },
  {
    "dmConversation" : {
      "conversationId" : "1620000000000000002-1730000000000000003",
      "messages" : [
        {
          "joinConversation" : {
            "initiatingUserId" : "1730000000000000003",
            "participantsSnapshot" : [ "1620000000000000002", "1730000000000000003" ],
            "createdAt" : "2026-03-18T16:20:00.000Z"
          }
        },
        {
          "messageCreate" : {
            "recipientId" : "1620000000000000002",
            "reactions" : [ ],
            "urls" : [ "https://www.bitume-nord.fr/offre" ],
            "text" : "Nous avons déposé notre offre, pouvez-vous nous dire où nous en sommes ?",
            "mediaUrls" : [ ],
            "senderId" : "1730000000000000003",
            "id" : "1902100000000000000",
            "createdAt" : "2026-04-20T09:00:00.000Z"
          }
        }
      ]
    }
  }
]
