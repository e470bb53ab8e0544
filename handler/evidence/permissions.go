package evidence

// Sids of the grants a writer of records needs.
const (
	GrantList   = "ListEvidenceRecords"
	GrantRead   = "ReadEvidenceRecords"
	GrantAppend = "AppendEvidenceRecords"
	GrantKey    = "UseEvidenceKey"
)

// Grant is one permission a writer of records needs.
type Grant struct {
	Sid      string
	Actions  []string
	Resource string
}

// WriterGrants are the permissions appending records to the bucket takes,
// as the calls of this package make them: listing the versions under the
// records prefix and reading records, to find and hash the last record of a
// chain; writing new records; and, when the bucket encrypts with a customer
// key (keyARN not empty), using that key for both. Nothing here deletes, and
// a bucket policy that refuses PutObject without If-None-Match leaves a
// writer no way to change what is stored.
func WriterGrants(bucketARN, keyARN string) []Grant {
	records := bucketARN + "/" + KeyPrefix + "*"
	grants := []Grant{
		{Sid: GrantList, Actions: []string{"s3:ListBucketVersions"}, Resource: bucketARN},
		{Sid: GrantRead, Actions: []string{"s3:GetObject", "s3:GetObjectVersion"},
			Resource: records},
		{Sid: GrantAppend, Actions: []string{"s3:PutObject"}, Resource: records},
	}
	if keyARN != "" {
		grants = append(grants, Grant{Sid: GrantKey,
			Actions: []string{"kms:GenerateDataKey", "kms:Decrypt"}, Resource: keyARN})
	}

	return grants
}
